"""Services every Pip.Services microservice on the chassis can use or extend.

- commandable: RepairedCommandableHttpService (a service's commandable service extends it), StrictCommand, and the
  OpenAPI document generated from the commands' schemas
- body_policy: what a command's body may be, read once and bounded
- swagger_ui: SwaggerUiService, Swagger UI listing the services' documents
- api_documents: the OpenAPI components every document shares (common.yml) and the YAML they are written in
"""
