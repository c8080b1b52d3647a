// The reference gateway of the differential test (test_differential.py): Apollo Gateway with
// Apollo Server, from the npm packages scripts/npm-tools installs, on a supergraph file and port.
// Usage: node reference_gateway.mjs <dir holding node_modules> apollo <supergraph.graphql> <port>
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const [tools, kind, supergraphPath, port] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(tools), "package.json"));
if (kind !== "apollo") {
  console.error(`unknown reference ${kind}`);
  process.exit(2);
}
const { ApolloGateway } = require("@apollo/gateway");
const { ApolloServer } = require("@apollo/server");
const { startStandaloneServer } = require("@apollo/server/standalone");

const server = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl: readFileSync(supergraphPath, "utf8") }) });
await startStandaloneServer(server, { listen: { port: Number(port), host: "127.0.0.1" } });
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, () => server.stop().finally(() => process.exit(0)));
}
