# HekiGuest top-level Makefile. Fragments in mk/*.mk add component targets.
SHELL := /bin/bash
.DEFAULT_GOAL := all
ROOT := $(abspath .)
BUILD := $(ROOT)/build
DOTNET ?= dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

-include mk/*.mk

.PHONY: all
all: kernel
