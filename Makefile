# The two commands of the README: `make run` (the daemon on the built-in simulator) and `make test`.
# Both set the machine up first (scripts/bootstrap: apt packages if missing, .venv, pip install -e .[test]).
.PHONY: run test bench setup

setup:
	./scripts/bootstrap

run: setup
	.venv/bin/pigate run $(ARGS)

test: setup
	.venv/bin/python -m pytest $(PYTEST_ARGS)

# Every benchmark unconfined, then the voice and capacity ones with the daemon on one core at a Pi 4 core's
# CPU quota (tests/bench/budget.py), then one table of every figure. Figures on a shared machine are noisy.
bench: setup
	.venv/bin/python -m pytest tests/bench -s -p no:cacheprovider $(PYTEST_ARGS); \
	status=$$?; \
	PIGATE_BENCH_BUDGET=pi4 .venv/bin/python -m pytest tests/bench/test_voice.py tests/bench/test_capacity.py \
		-s -p no:cacheprovider $(PYTEST_ARGS) || status=$$?; \
	.venv/bin/python -m tests.bench.report; exit $$status
