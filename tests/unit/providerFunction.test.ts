/**
 * The provider's one function, which the program calls as it starts so that the engine starts the plugin early
 * (index.ts): it answers with the plugin's version, and any other function is refused by name.
 */
import test from "ava";
import { makeNfvkitProvider, providerVersion } from "../../components/provider/provider";
import { tokens } from "../../components/tokens";

test("the provider's version function answers with the plugin's version", async (t) => {
    const provider = makeNfvkitProvider(() => undefined);
    t.deepEqual(await provider.invoke!(tokens.providerVersion, {}), { outputs: { version: providerVersion } });
});

test("a function the provider does not serve is refused with the one it serves", async (t) => {
    const provider = makeNfvkitProvider(() => undefined);
    const err = await t.throwsAsync(provider.invoke!("nfvkit:provider:reboot", {}));
    t.is(err!.message, `the nfvkit provider has no function nfvkit:provider:reboot; it serves ${tokens.providerVersion}`);
});
