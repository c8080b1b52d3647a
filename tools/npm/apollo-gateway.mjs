// Apollo Gateway with Apollo Server, from the packages beside this file (scripts/npm-tools installs
// them): the reference of the differential test (tests/gateway/test_differential.py) and a peer in
// the gateway benchmark (bench/gateway_compare.py).
// Usage: node apollo-gateway.mjs <supergraph.graphql> <port>
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const [supergraphPath, port] = process.argv.slice(2);
if (!supergraphPath || !port) {
  console.error("usage: node apollo-gateway.mjs <supergraph.graphql> <port>");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const { ApolloGateway } = require("@apollo/gateway");
const { ApolloServer } = require("@apollo/server");
const { startStandaloneServer } = require("@apollo/server/standalone");

const server = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl: readFileSync(supergraphPath, "utf8") }) });
await startStandaloneServer(server, { listen: { port: Number(port), host: "127.0.0.1" } });
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.once(signal, () => server.stop().finally(() => process.exit(0)));
}
