# The two commands of the README: `make run` (the daemon on the built-in simulator) and `make test`.
# Both set the machine up first (scripts/bootstrap: apt packages if missing, .venv, pip install -e .[test]).
.PHONY: run test bench setup image image-test

setup:
	./scripts/bootstrap

run: setup
	.venv/bin/pigate run $(ARGS)

# The whole suite but the benchmarks (they print figures, not verdicts on a shared machine: `make bench`).
test: setup
	.venv/bin/python -m pytest --ignore=tests/bench $(PYTEST_ARGS)

# Every benchmark unconfined, then the voice and capacity ones with the daemon on one core at a Pi 4 core's
# CPU quota (tests/bench/budget.py), then one table of every figure. Figures on a shared machine are noisy.
bench: setup
	.venv/bin/python -m pytest tests/bench -s -p no:cacheprovider $(PYTEST_ARGS); \
	status=$$?; \
	PIGATE_BENCH_BUDGET=pi4 .venv/bin/python -m pytest tests/bench/test_voice.py tests/bench/test_capacity.py \
		-s -p no:cacheprovider $(PYTEST_ARGS) || status=$$?; \
	.venv/bin/python -m tests.bench.report; exit $$status

# The SD-card image (root, ~15 min the first time, then ~6): image/out/pigate-VERSION-arm64.img.zst + .sha256.
# Its tools (mmdebstrap, qemu-user-static, ...) are installed by scripts/bootstrap --image.
image:
	./scripts/bootstrap --image
	./image/build $(STAGES)

# Boots the built image under qemu (two boots, ~10 min): make image first.
image-test: setup
	PIGATE_IMAGE_TEST=1 .venv/bin/python -m pytest tests/image -s -v $(PYTEST_ARGS)
