"""Stage 2, resolve: every asset found and probed, narration spoken (or a recording read), music chosen, and
so every scene's exact length known. The result still speaks the document's language; the timeline stage
compiles it into frames.
"""
