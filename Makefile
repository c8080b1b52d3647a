# Shortcuts for the scripts the README names.
.PHONY: run test
run:
	scripts/run
test:
	scripts/test
