# The two commands of the README: `make book` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: book test setup lint format clean bench sweep frameworks sync pdf assignment student

book: setup  ## install everything, then build the book with execution
	$(BIN)/jupyter-book build . -W -n --keep-going

test: setup lint  ## install everything, then run every test (book build included)
	$(BIN)/python -m pytest

setup:
	bash scripts/setup.sh

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:  ## drop the built book and its execution cache
	rm -rf _build

bench: setup  ## time our training path against the seed's and the hardware
	$(BIN)/python benchmarks/run.py

sweep: setup  ## rerun the p1/p2 sweep of the explorer page (resumable)
	$(BIN)/python -m dropout_utils.sweep

frameworks: setup  ## TensorFlow, Paddle, MindSpore, MXNet: envs, layer tests, stored runs
	bash scripts/frameworks.sh

assignment: setup  ## otter assign: student and autograder versions in _build/assignment
	$(BIN)/otter assign -v assignments/dropout/dropout-assignment.ipynb _build/assignment

pdf: book  ## print the built book into _build/pdf/dropout-book.pdf (Chromium)
	$(BIN)/python scripts/make_pdf.py

student: setup  ## the book without solutions, into _build/student/_build/html
	$(BIN)/python scripts/build_student.py

sync:  ## update each chapter's paired .ipynb (for Colab) from its .md, or back
	$(BIN)/jupytext --sync $$(grep -l '^kernelspec:' chapters/*.md)
