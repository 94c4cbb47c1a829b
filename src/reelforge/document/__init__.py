"""Stage 1, the document: reading, upgrading and checking what the user wrote.

`loader` turns bytes into a validated `reelforge.model.Document` (upgrading old versions with `upgrade`), every
fault a `Problem` at its JSON path (`problems`, `jsonpath`); `checks` finds what a schema cannot express;
`estimate` and `lengths` say how long scenes and the video will last; `schema` writes the JSON Schema.
"""
