"""OzML: typed verbs, a safe parser and the interpreter that runs them against a Leg."""
