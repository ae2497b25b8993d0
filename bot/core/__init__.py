"""Pure domain rules: standard library only, time always passed in, no I/O."""
