"""The decision checklist: a YAML definition, a pure engine over it, an ADR export and a Redis store.

`definition` holds the frozen models, `loader` turns knowledge/checklist.yaml into them (errors name
file:line), `engine` runs start/answer/back/restart/result, `scoring` evaluates the rules,
`record` writes the decision record, `state` keeps sessions in Redis and `terminal` is the CLI.
"""
