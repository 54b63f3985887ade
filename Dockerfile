# A slim image with the `modelcache` command, for init containers and DaemonSets
# (see examples/kubernetes/). The runtime is a jlink image of only the JDK modules the command
# uses; the demo's embedded S3 server is left out (`modelcache demo` says so).
#
#   docker build -t modelcache:0.1.0 .
#   docker run --rm modelcache:0.1.0 --help

FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -q -pl cache-cli -am package -Dmaven.test.skip=true \
 && mkdir -p /opt/modelcache \
 && cp cache-cli/target/cache-cli-*.jar /opt/modelcache/modelcache.jar \
 && cp -r cache-cli/target/lib /opt/modelcache/lib \
 && cp cache-cli/jvm.options /opt/modelcache/jvm.options
# jdeps finds the JDK modules the command and its libraries use. The storage backends are loaded
# through ServiceLoader, which jdeps cannot follow, so every third-party jar is analysed too (the
# project's own jars are modules that jdeps would want on a module path; they need java.base, and
# cache-agent's /metrics and probe endpoints jdk.httpserver).
RUN cd /opt/modelcache \
 && modules="$(jdeps --multi-release 25 --ignore-missing-deps --print-module-deps \
        --class-path 'lib/*' $(ls lib/*.jar | grep -v '/cache-') modelcache.jar 2>/dev/null | tail -n 1)" \
 && modules="${modules},jdk.httpserver" \
 && echo "runtime modules: ${modules}" \
 && jlink --add-modules "${modules}" \
        --strip-debug --no-man-pages --no-header-files --compress=zip-6 --output /opt/jre \
 && /opt/jre/bin/java -cp 'modelcache.jar:lib/*' dev.modelcache.cli.Main --version
# An AOT cache (JDK 25) recorded by one training `prefetch` from a local S3Proxy: the command then
# starts with its classes loaded and linked and its methods profiled, which made a 4.5 GiB download
# about 1.2x faster (benchmarks/RESULTS.md, S3 section). It fits only this runtime, this class path
# and these JVM options; with other options (MODELCACHE_JAVA_OPTS) the JVM runs without it.
RUN bin/modelcache-train-aot --java /opt/jre/bin/java --server-java "$(command -v java)" \
        --classpath "/opt/modelcache/modelcache.jar:/opt/modelcache/lib/*" \
        --output /opt/modelcache/modelcache.aot

FROM debian:bookworm-slim
COPY --from=build /opt/jre /opt/jre
COPY --from=build /opt/modelcache /opt/modelcache
# JVM warnings go to stderr: stdout is the command's (a directory, a JSON document).
RUN printf '%s\n' '#!/bin/sh' \
      'exec /opt/jre/bin/java --enable-native-access=ALL-UNNAMED @/opt/modelcache/jvm.options -XX:AOTCache=/opt/modelcache/modelcache.aot -Xlog:disable -Xlog:all=warning,aot*=off:stderr ${MODELCACHE_JAVA_OPTS:-} -cp "/opt/modelcache/modelcache.jar:/opt/modelcache/lib/*" dev.modelcache.cli.Main "$@"' \
      > /usr/local/bin/modelcache \
 && chmod 0755 /usr/local/bin/modelcache
# Root by default (a node's hostPath cache is root-owned); override with --root or this variable.
ENV MODELCACHE_ROOT=/var/cache/modelcache
ENTRYPOINT ["modelcache"]
CMD ["--help"]
