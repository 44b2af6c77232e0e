.PHONY: test demo bench lint

test:
	./scripts/test

demo:
	./scripts/demo

bench:
	./scripts/bench

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy
