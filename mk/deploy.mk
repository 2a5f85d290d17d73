# mk/deploy.mk — AWS deployment (docs/deploy.md) and its offline checks.
#
#   make deploy-check        fmt, validate, terraform test (mocked AWS), HCL checklist, workflow
#                            and script lint, release-script tests (tests/deploy/*.t)
#   make docs                render docs/architecture.dot to docs/architecture_aws.png
#
# Against a real AWS account (credentials in the environment, AWS_REGION set):
#   make deploy-init         terraform init (add DEPLOY_BACKEND=backend.hcl for S3 state)
#   make deploy-ecr          create only the ECR repository (first deployment)
#   make deploy-image-push   build the image, tag it with the commit SHA, push it to ECR
#   make deploy-plan         terraform plan for that tag
#   make deploy-apply        terraform apply for that tag
#   make deploy-release      run the migration task, then roll the service onto the new revision
#   make deploy-restart      restart the tasks (e.g. after the DB password rotated)

DEPLOY_TF_DIR ?= deploy/terraform
DEPLOY_NAME ?= techchallenge
DEPLOY_BACKEND ?=
DEPLOY_TF_ARGS ?=
TERRAFORM ?= terraform
DOCKER ?= docker
# Images are tagged with the full commit SHA (tags are immutable in ECR).
DEPLOY_TAG ?= $(shell git rev-parse HEAD 2>/dev/null)

.PHONY: deploy-check docs deploy-init deploy-ecr deploy-image-push deploy-plan deploy-apply \
	deploy-release deploy-restart

deploy-check: bootstrap-test
	$(PROVE) $(PROVE_FLAGS) $(sort $(wildcard tests/deploy/*.t))

docs: docs/architecture_aws.png

docs/architecture_aws.png: docs/architecture.dot
	dot -Tpng -Gdpi=110 -o $@ $<

deploy-init:
	$(TERRAFORM) -chdir=$(DEPLOY_TF_DIR) init $(if $(DEPLOY_BACKEND),-backend-config=$(DEPLOY_BACKEND))

deploy-ecr:
	$(TERRAFORM) -chdir=$(DEPLOY_TF_DIR) apply -target=aws_ecr_repository.app \
		-target=aws_ecr_lifecycle_policy.app $(DEPLOY_TF_ARGS)

deploy-image-push:
	@git diff --quiet HEAD -- || [ "$(origin DEPLOY_TAG)" != file ] || \
		{ echo "deploy-image-push: uncommitted changes; commit first (the tag is the commit SHA) or set DEPLOY_TAG" >&2; exit 1; }
	@set -eu; \
	url=$$(aws ecr describe-repositories --repository-names "$(DEPLOY_NAME)" \
		--query 'repositories[0].repositoryUri' --output text); \
	registry=$${url%%/*}; \
	aws ecr get-login-password | $(DOCKER) login --username AWS --password-stdin "$$registry"; \
	$(DOCKER) build -t "$$url:$(DEPLOY_TAG)" .; \
	$(DOCKER) push "$$url:$(DEPLOY_TAG)"; \
	echo "pushed $$url:$(DEPLOY_TAG)"

deploy-plan:
	$(TERRAFORM) -chdir=$(DEPLOY_TF_DIR) plan -var=image_tag=$(DEPLOY_TAG) $(DEPLOY_TF_ARGS)

deploy-apply:
	$(TERRAFORM) -chdir=$(DEPLOY_TF_DIR) apply -var=image_tag=$(DEPLOY_TAG) $(DEPLOY_TF_ARGS)

deploy-release:
	TERRAFORM=$(TERRAFORM) $(DEPLOY_TF_DIR)/scripts/ecs-release.sh release

deploy-restart:
	TERRAFORM=$(TERRAFORM) $(DEPLOY_TF_DIR)/scripts/ecs-release.sh restart
