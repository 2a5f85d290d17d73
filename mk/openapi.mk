# openapi.mk — the API page at /swagger/: Swagger UI, vendored from the npm package swagger-ui-dist.
#
#   make swagger-ui   copy Swagger UI from tests/openapi/node_modules into assets/swagger/
#
# The copies are committed, so a build needs no network and no node; this target only runs when
# the pinned version in tests/openapi/package.json changes (npm install there first). Only the
# browser bundle, its stylesheet (minus the source-map comment: the map is not embedded), an icon
# and the license files are taken. tests/openapi/vendor.t checks the committed copies are exactly
# what this target produces from the locked package.
SWAGGER_UI_DIST ?= tests/openapi/node_modules/swagger-ui-dist
SWAGGER_UI_OUT ?= assets/swagger

.PHONY: swagger-ui
swagger-ui:
	@test -f $(SWAGGER_UI_DIST)/swagger-ui-bundle.js || \
	  { echo "no $(SWAGGER_UI_DIST): run 'npm ci' in tests/openapi" >&2; exit 1; }
	@mkdir -p $(SWAGGER_UI_OUT)
	cp $(SWAGGER_UI_DIST)/swagger-ui-bundle.js $(SWAGGER_UI_OUT)/swagger-ui-bundle.js
	sed '/^\/\*# sourceMappingURL=.*\*\/$$/d' $(SWAGGER_UI_DIST)/swagger-ui.css \
	  > $(SWAGGER_UI_OUT)/swagger-ui.css
	cp $(SWAGGER_UI_DIST)/favicon-32x32.png $(SWAGGER_UI_OUT)/favicon-32x32.png
	cp $(SWAGGER_UI_DIST)/swagger-ui-bundle.js.LICENSE.txt \
	  $(SWAGGER_UI_OUT)/swagger-ui-bundle.js.LICENSE.txt
	cat $(SWAGGER_UI_DIST)/NOTICE $(SWAGGER_UI_DIST)/LICENSE > $(SWAGGER_UI_OUT)/swagger-ui-LICENSE.txt
