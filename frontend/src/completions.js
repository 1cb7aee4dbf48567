// Completion of JSON Schema keywords (where a key goes), of `type` values (after `type:`) and
// of string formats (after `format:`),
// for the YAML and JSON forms of a tool definition.

const TYPES = ["string", "number", "integer", "boolean", "object", "array", "null"];
const FORMATS = ["date-time", "date", "time", "duration", "email", "hostname", "ipv4", "ipv6",
  "uri", "uuid", "regex"];

const KEYWORDS = [
  ["name", "tool name: letters, digits, _ or -, at most 64"],
  ["description", "what it does and when the model should use it"],
  ["parameters", "the JSON Schema of the arguments (type: object)"],
  ["strict", "true: the model's arguments always fit the schema (strict mode)"],
  ["results", "canned results: name → result text"],
  ["type", "string, number, integer, boolean, object, array or null"],
  ["properties", "the object's named properties"],
  ["required", "names of the properties that must be given"],
  ["additionalProperties", "false: no properties beyond those listed"],
  ["items", "the schema of each array item"],
  ["enum", "the allowed values"],
  ["const", "the one allowed value"],
  ["default", "the value used when none is given"],
  ["format", "date-time, date, email, uri, uuid, …"],
  ["pattern", "a regular expression strings must match"],
  ["minimum", "smallest allowed number"],
  ["maximum", "largest allowed number"],
  ["exclusiveMinimum", "numbers must be greater"],
  ["exclusiveMaximum", "numbers must be smaller"],
  ["multipleOf", "numbers must be a multiple of this"],
  ["minLength", "shortest allowed string"],
  ["maxLength", "longest allowed string"],
  ["minItems", "fewest array items"],
  ["maxItems", "most array items"],
  ["uniqueItems", "true: no two items equal"],
  ["anyOf", "valid against at least one of these schemas"],
  ["oneOf", "valid against exactly one of these schemas"],
  ["allOf", "valid against all of these schemas"],
  ["not", "not valid against this schema"],
  ["$ref", "a reference, e.g. #/$defs/address"],
  ["$defs", "named schemas to $ref"],
  ["title", "a short title"],
  ["examples", "example values"],
];

const WORD = /^[\w$]*$/;

export function schemaCompletions(context, fmt) {
  const line = context.state.doc.lineAt(context.pos);
  const before = line.text.slice(0, context.pos - line.from);
  const typeValue = before.match(/(?:^|[\s{,])"?type"?\s*:\s*(?:\[[^\]]*)?["']?(\w*)$/);
  if (typeValue) {
    return {
      from: context.pos - typeValue[1].length,
      options: TYPES.map((t) => ({ label: t, type: "enum", detail: "type" })),
      validFor: WORD,
    };
  }
  const formatValue = before.match(/(?:^|[\s{,])"?format"?\s*:\s*["']?([\w-]*)$/);
  if (formatValue) {
    return {
      from: context.pos - formatValue[1].length,
      options: FORMATS.map((f) => ({ label: f, type: "enum", detail: "format" })),
      validFor: /^[\w-]*$/,
    };
  }
  const key = fmt === "json"
    ? before.match(/(?:^|[{,])\s*"([\w$]*)$/)
    : before.match(/^\s*(?:-\s+)?([\w$]*)$/);
  if (!key || (!key[1] && !context.explicit)) return null;
  return {
    from: context.pos - key[1].length,
    options: KEYWORDS.map(([label, info]) => ({
      label,
      type: "property",
      info,
      apply: fmt === "json" ? label : `${label}: `,
    })),
    validFor: WORD,
  };
}
