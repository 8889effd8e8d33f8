// Preloaded by the language host (node --require): the Pulumi program's .ts
// entry point, which @pulumi/pulumi's run script require()s, loads as its
// compiled bundle. See compiled.cjs.
"use strict";
require("./compiled.cjs").registerTs();
