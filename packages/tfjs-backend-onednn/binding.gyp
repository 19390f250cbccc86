{
  "targets": [
    {
      "target_name": "onednn_backend",
      "sources": [
        "native/addon.cc",
        "native/batchnorm.cc",
        "native/matmul.cc",
        "native/conv.cc",
        "native/pool.cc",
        "native/elementwise.cc",
        "native/reduce.cc",
        "native/shape.cc",
        "native/distances.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "/usr/include/x86_64-linux-gnu"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fno-trapping-math", "-fno-math-errno", "-ffp-contract=off", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-ldnnl", "-lopenblas", "-lgomp"]
    }
  ]
}
