{
  "targets": [
    {
      "target_name": "redisfs_checksum",
      "sources": ["checksum.c"],
      "cflags": ["<!@(pkg-config --cflags libisal)", "-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "libraries": ["<!@(pkg-config --libs libisal)"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
