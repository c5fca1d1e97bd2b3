{
  # The kernels are built once per x86-64 instruction-set level and the loader picks the best
  # one the CPU supports at run time (src/engine/kernels/native.ts): a built package runs on
  # any x86-64 machine, and uses AVX2/FMA (v3) or AVX-512 (v4) where present. Other
  # architectures get the portable build only.
  "target_defaults": {
    "sources": ["native/binding.cc", "native/kernels.cc", "native/xbar.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-O2"],
    "cflags_cc": ["-O3", "-fopenmp", "-fno-trapping-math", "-fno-math-errno", "-std=c++17"],
    "ldflags": ["-fopenmp"],
    "conditions": [
      ["'<!(test -f /usr/include/x86_64-linux-gnu/cblas.h -o -f /usr/include/cblas.h && echo yes || echo no)'=='yes'", {
        "defines": ["MEMHYPER_OPENBLAS=1"],
        "libraries": ["-lopenblas"]
      }]
    ]
  },
  "targets": [
    { "target_name": "memhyper_native", "defines": ["MEMHYPER_ISA=\"portable\""] }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "memhyper_native_v3",
          "defines": ["MEMHYPER_ISA=\"x86-64-v3\""],
          "cflags_cc": ["-march=x86-64-v3", "-mtune=generic"]
        },
        {
          "target_name": "memhyper_native_v4",
          "defines": ["MEMHYPER_ISA=\"x86-64-v4\""],
          "cflags_cc": ["-march=x86-64-v4", "-mtune=generic"]
        }
      ]
    }]
  ]
}
