# The image of a serving container that runs under `modelcache exec` (prefetch-init-container.yaml,
# serving-with-await.yaml): the model server's own image, with the modelcache runtime copied in
# from the modelcache image that the Dockerfile at the repository root builds.
#
#   docker build -f examples/kubernetes/server-image.Dockerfile \
#     --build-arg SERVER_IMAGE=registry.example.com/llm-server:1.0 \
#     -t registry.example.com/llm-server-modelcache:1.0 examples/kubernetes
#
# The runtime is a jlink image built on Debian: the server's image must be glibc-based (not
# Alpine's musl) and have /bin/sh, which the `modelcache` wrapper script runs on. The paths are the
# ones the modelcache image uses, so its AOT cache fits here too. The server's ENTRYPOINT stays as
# it is; a pod's `command` puts `modelcache exec SOURCE ... --` before the server's command line.
ARG MODELCACHE_IMAGE=registry.example.com/modelcache:0.1.0
ARG SERVER_IMAGE=registry.example.com/llm-server:1.0

FROM ${MODELCACHE_IMAGE} AS modelcache

FROM ${SERVER_IMAGE}
COPY --from=modelcache /opt/jre /opt/jre
COPY --from=modelcache /opt/modelcache /opt/modelcache
COPY --from=modelcache /usr/local/bin/modelcache /usr/local/bin/modelcache
