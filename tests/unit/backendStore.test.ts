/**
 * Which backends the kit reads its locks and records in, and what it tells a
 * person to run by hand there (tools/cli/backendStore.ts). Reading a real
 * bucket is tests/e2e/s3Backend.test.ts's.
 */
import test from "ava";
import { backendStore } from "../../tools/cli/backendStore";

const KEY = ".pulumi/locks/organization/nfv-testpod/ci/7d3c.json";

test("a file:// backend is its folder: the path, and an rm line that takes the .attrs file too", (t) => {
    const store = backendStore("file:///srv/my state")!;
    t.is(store.where(KEY), `/srv/my state/${KEY}`);
    t.is(store.removeByHand(KEY), `rm -f '/srv/my state/${KEY}' '/srv/my state/${KEY}.attrs'`);
});

test("an s3:// backend names the object by its address, with the folder in the bucket and the store's endpoint", (t) => {
    const store = backendStore("s3://team-state/nfv?endpoint=http://127.0.0.1:8333&s3ForcePathStyle=true&region=us-east-1")!;
    t.is(store.where(KEY), `s3://team-state/nfv/${KEY}`);
    t.is(store.removeByHand(KEY), `aws s3 rm s3://team-state/nfv/${KEY} --endpoint-url http://127.0.0.1:8333`);
    t.is(backendStore("s3://team-state")!.removeByHand(KEY), `aws s3 rm s3://team-state/${KEY}`, "AWS itself needs no endpoint");
});

test("other backends are not read: no store", (t) => {
    for (const url of [undefined, "", "gs://bucket", "azblob://container", "https://api.pulumi.com"]) t.is(backendStore(url), undefined, String(url));
});
