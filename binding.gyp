{
  "targets": [
    {
      "target_name": "memhyper_native",
      "sources": ["native/binding.cc", "native/kernels.cc", "native/xbar.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-O2"],
      "cflags_cc": ["-O3", "-march=native", "-fopenmp", "-fno-trapping-math", "-fno-math-errno", "-std=c++17"],
      "ldflags": ["-fopenmp"],
      "conditions": [
        ["'<!(test -f /usr/include/x86_64-linux-gnu/cblas.h -o -f /usr/include/cblas.h && echo yes || echo no)'=='yes'", {
          "defines": ["MEMHYPER_OPENBLAS=1"],
          "libraries": ["-lopenblas"]
        }]
      ]
    }
  ]
}
