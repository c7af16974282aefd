# Martlet in a container: `docker compose up` runs the 3-controller/3-broker cluster of
# docker-compose.yml from this image. Build stage: the release binary; run stage: the binary and the
# compression libraries it links, nothing else.
FROM swift:6.1-noble AS build
RUN apt-get update -qq && apt-get install -y -qq zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift Package.resolved* ./
COPY Sources Sources
COPY Tests Tests
COPY spec spec
RUN swift build -c release --product martlet && cp "$(swift build -c release --show-bin-path)/martlet" /usr/local/bin/martlet

FROM swift:6.1-noble-slim
RUN apt-get update -qq && apt-get install -y -qq zlib1g libsnappy1v5 liblz4-1 libzstd1 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/martlet /usr/local/bin/martlet
COPY config /etc/martlet
VOLUME /var/lib/martlet
ENTRYPOINT ["martlet"]
