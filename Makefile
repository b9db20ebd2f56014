# Dalil: two commands do all the set-up on a fresh Debian machine.
#   make demo   set up, then run the main job on the bundled demo data
#   make test   set up, then run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Debian packages Dalil and its tests use (installed only when missing).
APT_PKGS := python3-venv python3-dev gcc libmagic1 sleuthkit dc3dd hashdeep yara mtools dosfstools \
	ntfs-3g fdisk e2fsprogs genisoimage chromium fonts-noto-core fonts-hosny-amiri wget openssl \
	poppler-utils libpango-1.0-0 libpangoft2-1.0-0 time hdparm microsocks postgresql \
	testdisk qemu-utils cryptsetup-bin lvm2 f2fs-tools libvshadow-utils redis-server mdadm
JOBS ?= 2
# a whole-suite run collecting fewer tests than this fails (never a green run of nothing)
MIN_TESTS ?= 250

.PHONY: setup apt venv bytecode scanner demo test thirdparty clean

setup: apt venv bytecode scanner

apt:
	@bash .ci/apt-ensure.sh $(APT_PKGS)

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml | apt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

# Dalil's own modules compiled ahead (pip does it for the dependencies; an editable install does
# not): where bytecode may not be written at run time (PYTHONDONTWRITEBYTECODE, a read-only
# checkout) every command otherwise compiled ~100 modules first, about 0.25 s. Only changed files
# are compiled again.
bytecode: venv
	@$(PY) -m compileall -q triage collectors reports rules

# the Hyperscan scanner of the system's magic database, compiled once into ~/.cache/dalil: else the
# first `dalil parse` on a new machine spends about 3 s building it (later ones load it in 0.1 s)
scanner: venv
	@$(PY) -c "from triage.analyzers import filetype; filetype.engine_name()"

demo: setup
	$(VENV)/bin/dalil demo --out demo-output

# real BitLocker and APFS test images that may not be committed here (tests/thirdparty.py says why)
thirdparty: venv
	@$(PY) tests/thirdparty.py

test: setup thirdparty
	DALIL_MIN_TESTS=$(MIN_TESTS) $(PY) -m pytest -q -n $(JOBS) --dist loadfile tests

clean:
	rm -rf $(VENV) demo-output build *.egg-info
