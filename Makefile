# Shortcuts for developers; README.md holds the two set-up commands for users.
.PHONY: test lint bench demo

test:
	python -m pytest -q

lint:
	ruff check thinkgym tests benchmarks examples

bench:
	python benchmarks/bench_sat.py

demo:
	thinkgym demo
