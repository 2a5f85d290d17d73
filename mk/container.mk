# Container image, compose and the local cloud replica (docs/container.md).
#
#   make image                      build the image techchallengeapp:<git rev> and :latest
#   make image-tag REGISTRY=r       tag both for a registry
#   make image-push REGISTRY=r      build r:<commit SHA> and push it (an existing tag is only
#                                   reused for the same commit); for ECR: make deploy-image-push
#   make image-test                 build with podman, run hardened, health, API, SIGTERM -> 0
#   make compose-test               docker-compose up against podman: db -> migrate -> app
#   make stack / make stack-down    PostgreSQL + 2 app instances + haproxy on 127.0.0.1:8080
#
# CONTAINER_ENGINE is docker when a Docker engine answers, else podman; with podman the
# debootstrapped base image stands in for Docker Hub's debian:bookworm-slim.

IMAGE_NAME ?= techchallengeapp
IMAGE_TAG ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo dev)
REGISTRY ?=
CONTAINER_ENGINE ?= $(shell if docker info >/dev/null 2>&1; then echo docker; \
                     elif command -v podman >/dev/null 2>&1; then echo podman; else echo docker; fi)
CONTAINER_CACHE ?= /var/tmp/tca-container
PODMAN_CONF := $(CURDIR)/tests/container/containers.conf
ENGINE_ENV = $(if $(filter podman,$(CONTAINER_ENGINE)),CONTAINERS_CONF=$(PODMAN_CONF))
IMAGE_BUILD_ARGS ?=
# Every build goes through scripts/image-build.sh, as CI's does (platform, labels, RDS CA).
IMAGE_BUILD_ENV = $(ENGINE_ENV) CONTAINER_ENGINE=$(CONTAINER_ENGINE) IMAGE_NAME=$(IMAGE_NAME) \
	IMAGE_BUILD_ARGS='$(IMAGE_BUILD_ARGS)'

.PHONY: image image-base image-tag image-push image-test compose-test stack stack-down

image-base:
ifeq ($(CONTAINER_ENGINE),podman)
	@$(ENGINE_ENV) scripts/podman-base.sh $(CONTAINER_CACHE)
endif

image: image-base
	$(IMAGE_BUILD_ENV) IMAGE_TAG=$(IMAGE_TAG) scripts/image-build.sh local

image-tag:
	@test -n "$(REGISTRY)" || { echo "usage: make image-tag REGISTRY=<registry/repository>" >&2; exit 2; }
	$(ENGINE_ENV) $(CONTAINER_ENGINE) tag $(IMAGE_NAME):$(IMAGE_TAG) $(REGISTRY):$(IMAGE_TAG)
	$(ENGINE_ENV) $(CONTAINER_ENGINE) tag $(IMAGE_NAME):$(IMAGE_TAG) $(REGISTRY):latest

image-push: image-base
	@test -n "$(REGISTRY)" || { echo "usage: make image-push REGISTRY=<registry/repository>" >&2; exit 2; }
	$(IMAGE_BUILD_ENV) $(if $(filter-out file,$(origin IMAGE_TAG)),IMAGE_TAG=$(IMAGE_TAG)) \
		scripts/image-build.sh push $(REGISTRY)

image-test:
	$(PROVE) -v tests/container/image.sh

compose-test:
	$(PROVE) -v tests/container/compose.sh

STACK_DIR ?= $(BUILD)/stack
STACK_PORT ?= 8080
STACK_BIN ?= $(BIN)
stack: $(STACK_BIN)
	@STACK_BIN=$(STACK_BIN) STACK_DIR=$(STACK_DIR) STACK_PORT=$(STACK_PORT) deploy/stack/stack.sh up

stack-down:
	@STACK_DIR=$(STACK_DIR) deploy/stack/stack.sh down
