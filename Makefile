# The two commands of the README: `make run` (the daemon on the built-in simulator) and `make test`.
# Both set the machine up first (scripts/bootstrap: apt packages if missing, .venv, pip install -e .[test]).
.PHONY: run test bench setup image image-test

setup:
	./scripts/bootstrap

run: setup
	.venv/bin/pigate run $(ARGS)

test: setup
	.venv/bin/python -m pytest $(PYTEST_ARGS)

bench: setup
	.venv/bin/python -m pytest tests/bench -s $(PYTEST_ARGS)

# The SD-card image (root, ~15 min the first time, then ~6): image/out/pigate-VERSION-arm64.img.zst + .sha256.
# Its tools (mmdebstrap, qemu-user-static, ...) are installed by scripts/bootstrap --image.
image:
	./scripts/bootstrap --image
	./image/build $(STAGES)

# Boots the built image under qemu (two boots, ~10 min): make image first.
image-test: setup
	PIGATE_IMAGE_TEST=1 .venv/bin/python -m pytest tests/image -s -v $(PYTEST_ARGS)
