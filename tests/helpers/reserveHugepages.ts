/**
 * A HugepageReservation create in a process of its own, for a test to kill -9
 * as a killed `pulumi up` would be killed: argv[2] is the reservation's
 * inputs as JSON, argv[3] its URN. Exits 0 once the create has returned.
 */
import * as hugepages from "../../components/host/hugepageOperations";

const [inputs, urn] = [JSON.parse(process.argv[2]), process.argv[3]];
void hugepages.create(inputs, { urn });
