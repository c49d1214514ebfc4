// Validates JSON documents with ajv, a JSON Schema validator felhom did not
// write, as an editor would: each document against the file's schema.
// Usage: node validate.js NODE_MODULES SCHEMA.json < docs.json
// docs.json is a JSON list of documents; the output is a JSON list with,
// for each document, the list of ajv's errors (empty when valid).
"use strict";
const path = require("path");
const fs = require("fs");
const Ajv2020 = require(path.join(process.argv[2], "ajv", "dist", "2020")).default;
const schema = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
// Strict about unknown keywords and formats; not about "type" beside
// "required" (felhom's overlays add requirements to a $ref'd object).
const ajv = new Ajv2020({
  allErrors: true,
  strictSchema: true,
  strictNumbers: true,
  strictTuples: true,
  strictTypes: false,
  strictRequired: false,
});
// yaml-language-server's own keyword: the rule of a pattern in words.
ajv.addKeyword({ keyword: "patternErrorMessage", schemaType: "string" });
const validate = ajv.compile(schema);
const docs = JSON.parse(fs.readFileSync(0, "utf8"));
const out = docs.map((d) =>
  validate(d) ? [] : validate.errors.map((e) => (e.instancePath || "/") + " " + e.message),
);
process.stdout.write(JSON.stringify(out));
