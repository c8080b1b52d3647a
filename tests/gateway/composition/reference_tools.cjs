// Test helper: runs the reference federation tools from the npm registry against our composer's inputs and output.
// Reads one JSON request on stdin, writes one JSON answer on stdout.
//
//   {"op": "compose", "scenarios": {name: [{name, url, sdl}]}}        -> Apollo's composer
//   {"op": "guild-compose", "scenarios": {...}}                        -> The Guild's composer
//   {"op": "check", "supergraphs": {name: sdl}, "queries": {name: [q]}} -> Apollo's supergraph loading, satisfiability
//        validation, gateway load and query plans; Hive Gateway's runtime (introspection); The Guild's public schema.
//
// Node modules come from ABG_NODE_MODULES or the project's tools/npm/node_modules.
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const NM = process.env.ABG_NODE_MODULES || path.resolve(__dirname, '../../../tools/npm/node_modules');
const req = (name) => require(path.join(NM, name));

function errorsOf(list) {
  return list.map((e) => ({ code: (e.extensions && e.extensions.code) || null, message: e.message }));
}

function apolloCompose(scenarios) {
  const { composeServices } = req('@apollo/composition');
  const { parse } = req('graphql');
  const out = {};
  for (const [name, subgraphs] of Object.entries(scenarios)) {
    try {
      const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
      out[name] = result.errors ? { errors: errorsOf(result.errors) } : { supergraphSdl: result.supergraphSdl };
    } catch (e) {
      out[name] = { errors: [{ code: 'EXCEPTION', message: String(e && e.message) }] };
    }
  }
  return out;
}

function guildCompose(scenarios) {
  const { composeServices } = req('@theguild/federation-composition');
  const { parse } = req('graphql');
  const out = {};
  for (const [name, subgraphs] of Object.entries(scenarios)) {
    try {
      const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })));
      out[name] = result.errors ? { errors: errorsOf(result.errors) } : { supergraphSdl: result.supergraphSdl };
    } catch (e) {
      out[name] = { errors: [{ code: 'EXCEPTION', message: String(e && e.message) }] };
    }
  }
  return out;
}

async function check(supergraphs, queries) {
  const { Supergraph, operationFromDocument } = req('@apollo/federation-internals');
  const { validateSatisfiability } = req('@apollo/composition');
  const { QueryPlanner, prettyFormatQueryPlan } = req('@apollo/query-planner');
  const { ApolloGateway } = req('@apollo/gateway');
  const { transformSupergraphToPublicSchema } = req('@theguild/federation-composition');
  const { createGatewayRuntime } = req('@graphql-hive/gateway-runtime');
  const { parse, buildASTSchema, printSchema } = req('graphql');
  const out = {};
  for (const [name, sdl] of Object.entries(supergraphs)) {
    const report = { problems: [], plans: {} };
    out[name] = report;
    const step = async (label, fn) => {
      try {
        return await fn();
      } catch (e) {
        report.problems.push(`${label}: ${e && e.message}`);
        return undefined;
      }
    };
    // No feature allow-list: we check the supergraph's validity, not what one router version supports.
    const supergraph = await step('apollo Supergraph.build', () => Supergraph.build(sdl, { supportedFeatures: null }));
    const satisfiability = await step('apollo validateSatisfiability', () => validateSatisfiability({ supergraphSdl: sdl }));
    if (satisfiability && satisfiability.errors) {
      report.problems.push(...satisfiability.errors.map((e) => `apollo validateSatisfiability: ${e.message}`));
    }
    await step('apollo gateway load', async () => {
      const gateway = new ApolloGateway({ supergraphSdl: sdl, logger: { debug() {}, info() {}, warn() {}, error() {} } });
      const loaded = await gateway.load();
      report.apolloApiSchema = printSchema(loaded.schema);
      await gateway.stop();
    });
    await step('guild public schema', () => {
      report.guildApiSchema = printSchema(buildASTSchema(transformSupergraphToPublicSchema(parse(sdl)), { assumeValidSDL: false }));
    });
    await step('hive gateway', async () => {
      const gw = createGatewayRuntime({ supergraph: sdl, logging: false });
      try {
        const res = await gw.fetch('http://localhost/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ __schema { queryType { name } types { name } } }' }),
        });
        const body = await res.json();
        if (body.errors) throw new Error(JSON.stringify(body.errors));
        report.hiveTypes = body.data.__schema.types.map((t) => t.name).filter((n) => !n.startsWith('__')).sort();
      } finally {
        if (gw.dispose) await gw.dispose();
      }
    });
    if (supergraph) {
      const planner = await step('apollo query planner', () => new QueryPlanner(supergraph));
      for (const query of (queries && queries[name]) || []) {
        await step(`plan ${query}`, () => {
          const operation = operationFromDocument(supergraph.schema, parse(query));
          report.plans[query] = prettyFormatQueryPlan(planner.buildQueryPlan(operation));
        });
      }
    }
  }
  return out;
}

async function main() {
  const request = JSON.parse(fs.readFileSync(0, 'utf8'));
  let answer;
  if (request.op === 'compose') answer = apolloCompose(request.scenarios);
  else if (request.op === 'guild-compose') answer = guildCompose(request.scenarios);
  else if (request.op === 'check') answer = await check(request.supergraphs, request.queries);
  else throw new Error(`unknown op ${request.op}`);
  // Exit only once stdout is flushed: large answers are written asynchronously to a pipe.
  await new Promise((resolve) => process.stdout.write(JSON.stringify(answer), resolve));
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(String((e && e.stack) || e));
    process.exit(1);
  },
);
