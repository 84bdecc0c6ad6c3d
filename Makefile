# The two commands of the README: `make run` (the daemon on the built-in simulator) and `make test`.
# Both set the machine up first (scripts/bootstrap: apt packages if missing, .venv, pip install -e .[test]).
.PHONY: run test bench setup

setup:
	./scripts/bootstrap

run: setup
	.venv/bin/pigate run $(ARGS)

test: setup
	.venv/bin/python -m pytest $(PYTEST_ARGS)

bench: setup
	.venv/bin/python -m pytest tests/bench -s $(PYTEST_ARGS)
