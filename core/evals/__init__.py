"""Schema test suites: parse, run across targets, record, summarise and compare
(docs/architecture.md, "Evals")."""
