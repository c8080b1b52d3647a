// Composes subgraph SDLs with Apollo's and The Guild's composers; prints what each said as JSON.
// Usage: node compose_sdl.mjs <dir holding node_modules>  < {"subgraphs": [{"name", "url", "sdl"}]}
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const require = createRequire(path.join(path.resolve(process.argv[2]), "package.json"));
const { parse } = require("graphql");
const apollo = require("@apollo/composition");
const guild = require("@theguild/federation-composition");

const { subgraphs } = JSON.parse(readFileSync(0, "utf8"));

function outcome(result) {
  const errors = (result.errors ?? []).map((e) => String(e.message ?? e));
  return { ok: errors.length === 0 && Boolean(result.supergraphSdl), errors, supergraphSdl: result.supergraphSdl ?? null };
}

const report = {};
try {
  const services = subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) }));
  report.apollo = outcome(apollo.composeServices(services));
} catch (error) {
  report.apollo = { ok: false, errors: [String(error)], supergraphSdl: null };
}
try {
  const services = subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) }));
  report.guild = outcome(guild.composeServices(services));
} catch (error) {
  report.guild = { ok: false, errors: [String(error)], supergraphSdl: null };
}
process.stdout.write(JSON.stringify(report));
