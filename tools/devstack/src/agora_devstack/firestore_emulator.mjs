// Starts the open-source Node Firestore emulator (@firestore-emulator/server) on one address.
//
// Usage: node firestore_emulator.mjs --node-modules <dir> [--host 127.0.0.1] [--port 8200]
//
// The package has no CLI, and its own start() binds 0.0.0.0; we bind its grpc-js server to the
// given host only. Prints "firestore emulator ready on <host>:<port>" once it accepts connections.
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    "node-modules": { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8200" },
  },
});

if (!values["node-modules"]) {
  console.error("firestore emulator: --node-modules <dir> is required");
  process.exit(2);
}

// Resolve the packages from the given node_modules rather than from this file's location, so the
// script works wherever the Python package is installed.
const fromRoot = createRequire(join(resolve(values["node-modules"]), "..", "package.json"));
const serverEntry = fromRoot.resolve("@firestore-emulator/server");
const { FirestoreServer } = fromRoot(serverEntry);
// grpc-js checks `creds instanceof ServerCredentials`, so take the class from the very copy of
// grpc-js the emulator's Server comes from.
const { ServerCredentials } = createRequire(serverEntry)("@grpc/grpc-js");

const address = `${values.host}:${values.port}`;
const emulator = new FirestoreServer();

emulator.server.bindAsync(address, ServerCredentials.createInsecure(), (err) => {
  if (err) {
    console.error(`firestore emulator: cannot bind ${address}: ${err.message}`);
    process.exit(1);
  }
  console.log(`firestore emulator ready on ${address}`);
});

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`firestore emulator: ${signal} received, stopping`);
  // The emulator keeps no data worth flushing, so a forced shutdown is fine.
  emulator.server.forceShutdown();
  process.exit(0);
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGHUP", () => shutdown("SIGHUP"));
