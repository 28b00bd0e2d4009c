{
  "variables": {
    "have_isal": "<!(pkg-config --exists libisal && echo 1 || echo 0)"
  },
  "targets": [
    {
      "target_name": "redisfs_fuse",
      "sources": ["redisfs_fuse.c"],
      "cflags": ["<!@(pkg-config --cflags fuse3)", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "libraries": ["<!@(pkg-config --libs fuse3)"],
      "defines": ["NAPI_VERSION=8"]
    }
  ],
  "conditions": [
    ["have_isal==1", {
      "targets": [
        {
          "target_name": "redisfs_checksum",
          "sources": ["checksum.c"],
          "cflags": ["<!@(pkg-config --cflags libisal)", "-std=gnu11", "-Wall", "-Wextra", "-O2"],
          "libraries": ["<!@(pkg-config --libs libisal)"],
          "defines": ["NAPI_VERSION=8"]
        }
      ]
    }]
  ]
}
