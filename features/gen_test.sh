#!/bin/sh
# Runs the registry generator's unit tests with the system Python (python3-yaml).
exec /usr/bin/python3 features/gen_test.py
