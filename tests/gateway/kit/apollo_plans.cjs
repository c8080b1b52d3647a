// Test helper: Apollo's query planner (@apollo/query-planner) on a supergraph, as JSON.
//   node apollo_plans.cjs <node_modules> <supergraph file>   (queries as a JSON list on stdin)
// Prints, per query, its fetches: {service, path, operation, contextRewrites}.
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const req = (name) => require(path.join(path.resolve(process.argv[2]), name));
const { Supergraph, operationFromDocument } = req('@apollo/federation-internals');
const { QueryPlanner } = req('@apollo/query-planner');
const { parse } = req('graphql');

function fetches(node, flattenPath, out) {
  if (!node) return out;
  if (node.kind === 'Fetch') {
    out.push({
      service: node.serviceName,
      path: flattenPath,
      operation: node.operation,
      contextRewrites: node.contextRewrites || [],
    });
  } else if (node.kind === 'Flatten') {
    fetches(node.node, node.path, out);
  } else if (node.kind === 'Sequence' || node.kind === 'Parallel') {
    for (const child of node.nodes) fetches(child, flattenPath, out);
  } else {
    throw new Error(`plan node ${node.kind} is not handled`);
  }
  return out;
}

const supergraph = Supergraph.build(fs.readFileSync(process.argv[3], 'utf8'), { supportedFeatures: null });
const planner = new QueryPlanner(supergraph);
const queries = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = {};
for (const query of queries) {
  const plan = planner.buildQueryPlan(operationFromDocument(supergraph.schema, parse(query), { validate: true }));
  out[query] = fetches(plan.node, null, []);
}
process.stdout.write(JSON.stringify(out));
