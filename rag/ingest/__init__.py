"""Documents in: find the files of a corpus, read each format as text, clean it, split it into passages
and sentences with character offsets.

`formats/` (one loader per file format) -> `documents` (scan a folder, read a file, metadata) ->
`cleaning` (page furniture, control characters) -> `chunking` (passages and sentences); `language`
and `stopwords` say how each language splits sentences and which words carry no meaning. It imports
only `rag.config` and `rag.errors`."""
