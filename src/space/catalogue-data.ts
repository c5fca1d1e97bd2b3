/**
 * Named genotypes of the DARTS family, copied verbatim from their public repositories
 * (repository @ commit : path in `source`). Generated once from shared/reference/genotypes.txt.
 */
export interface CatalogueEntry {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly source: string;
  readonly text: string;
}

export const CATALOGUE: readonly CatalogueEntry[] = [
  {
    name: "DARTS_V1",
    aliases: [],
    source: "quark0/darts @ f276dd346a09ae3160f8e3aca5c7b193fda1da37 : cnn/genotypes.py",
    text: `Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])`,
  },
  {
    name: "DARTS_V2",
    aliases: ["DARTS"],
    source: "quark0/darts @ f276dd346a09ae3160f8e3aca5c7b193fda1da37 : cnn/genotypes.py",
    text: `Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])`,
  },
  {
    name: "PDARTS",
    aliases: [],
    source: "chenxin061/pdarts @ b880e8733010403307fe6a9bf7f02612fbc424ca : genotypes.py",
    text: `Genotype(normal=[('skip_connect', 0), ('dil_conv_3x3', 1), ('skip_connect', 0),('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('sep_conv_3x3', 3), ('sep_conv_3x3',0), ('dil_conv_5x5', 4)], normal_concat=range(2, 6), reduce=[('avg_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('dil_conv_5x5', 2), ('max_pool_3x3', 0), ('dil_conv_3x3', 1), ('dil_conv_3x3', 1), ('dil_conv_5x5', 3)], reduce_concat=range(2, 6))`,
  },
  {
    name: "PC_DARTS",
    aliases: ["PC_DARTS_cifar", "PCDARTS"],
    source: "yuhuixu1993/PC-DARTS @ b74702f86c70e330ce0db35762cfade9df026bb7 : genotypes.py",
    text: `Genotype(normal=[('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 0), ('dil_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('avg_pool_3x3', 0), ('dil_conv_3x3', 1)], normal_concat=range(2, 6), reduce=[('sep_conv_5x5', 1), ('max_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_5x5', 2), ('sep_conv_3x3', 0), ('sep_conv_3x3', 3), ('sep_conv_3x3', 1), ('sep_conv_3x3', 2)], reduce_concat=range(2, 6))`,
  },
  {
    name: "PC_DARTS_image",
    aliases: [],
    source: "yuhuixu1993/PC-DARTS @ b74702f86c70e330ce0db35762cfade9df026bb7 : genotypes.py",
    text: `Genotype(normal=[('skip_connect', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 0), ('skip_connect', 1), ('sep_conv_3x3', 1), ('sep_conv_3x3', 3), ('sep_conv_3x3', 1), ('dil_conv_5x5', 4)], normal_concat=range(2, 6), reduce=[('sep_conv_3x3', 0), ('skip_connect', 1), ('dil_conv_5x5', 2), ('max_pool_3x3', 1), ('sep_conv_3x3', 2), ('sep_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 3)], reduce_concat=range(2, 6))`,
  },
  {
    name: "GDAS_V1",
    aliases: [],
    source:
      "D-X-Y/AutoDL-Projects @ bb2f405961d73b5bf3a757178793aa1fc7038ca2 : lib/nas_infer_model/DXYs/genotypes.py (official GDAS author repo; nested-pair format, extra fields connectN/connects)",
    text: `Genotype(
  normal=[
    (('skip_connect', 0), ('skip_connect', 1)),
    (('skip_connect', 0), ('sep_conv_5x5', 2)),
    (('sep_conv_3x3', 3), ('skip_connect', 0)),
    (('sep_conv_5x5', 4), ('sep_conv_3x3', 3))],
  normal_concat=[2, 3, 4, 5],
  reduce=[
    (('sep_conv_5x5', 0), ('sep_conv_3x3', 1)), 
    (('sep_conv_5x5', 2), ('sep_conv_5x5', 1)),
    (('dil_conv_5x5', 2), ('sep_conv_3x3', 1)),
    (('sep_conv_5x5', 0), ('sep_conv_5x5', 1))],
  reduce_concat=[2, 3, 4, 5],
  connectN=None, connects=None
)`,
  },
  {
    name: "SNAS",
    aliases: [],
    source: "xiaomi-automl/FairDARTS @ 270cfc94ef4bf851f359ab5caf741f23316ea7c9 : fairdarts/genotypes.py",
    text: `Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1),
                        ('skip_connect', 0), ('dil_conv_3x3', 1),
                        ('skip_connect', 1), ('skip_connect', 0), 
                        ('skip_connect',0),  ('sep_conv_3x3', 1)], normal_concat=range(2, 6),
                reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1),
                 ('max_pool_3x3', 1), ('skip_connect', 2),
                 ('skip_connect', 2), ('max_pool_3x3', 1),
                 ('max_pool_3x3', 0), ('dil_conv_5x5', 2)], reduce_concat=range(2, 6))`,
  },
  {
    name: "FairDARTS_a",
    aliases: [],
    source: "xiaomi-automl/FairDARTS @ 270cfc94ef4bf851f359ab5caf741f23316ea7c9 : fairdarts/genotypes.py",
    text: `Genotype(normal=[('sep_conv_3x3', 2, 0), ('sep_conv_5x5', 2, 1), ('max_pool_3x3', 4, 0), ('sep_conv_3x3', 5, 0)], normal_concat=range(2, 6),
         reduce=[('max_pool_3x3', 2, 0), ('avg_pool_3x3', 2, 1), ('avg_pool_3x3', 3, 0), ('dil_conv_5x5', 3, 1), ('avg_pool_3x3', 4, 0), ('sep_conv_5x5', 4, 1),
                 ('skip_connect', 5, 0), ('skip_connect', 5, 1)], reduce_concat=range(2, 6))`,
  },
  {
    name: "FairDARTS_b",
    aliases: [],
    source: "xiaomi-automl/FairDARTS @ 270cfc94ef4bf851f359ab5caf741f23316ea7c9 : fairdarts/genotypes.py",
    text: `Genotype(normal=[('sep_conv_3x3', 2, 0), ('sep_conv_3x3', 2, 1), ('sep_conv_3x3', 3, 1), ('dil_conv_3x3', 4, 0), ('sep_conv_5x5', 4, 1), ('dil_conv_5x5', 5, 1)], normal_concat=range(2, 6),
reduce=[('skip_connect', 2, 0), ('dil_conv_3x3', 2, 1), ('skip_connect', 3, 0), ('dil_conv_3x3', 3, 1), ('max_pool_3x3', 4, 0), ('sep_conv_3x3', 4, 1), ('skip_connect', 5, 2), ('max_pool_3x3', 5, 0)], reduce_concat=range(2, 6))`,
  },
  {
    name: "FairDARTS_c",
    aliases: [],
    source: "xiaomi-automl/FairDARTS @ 270cfc94ef4bf851f359ab5caf741f23316ea7c9 : fairdarts/genotypes.py",
    text: `Genotype(normal=[('max_pool_3x3', 2, 0), ('sep_conv_5x5', 2, 1), ('dil_conv_3x3', 4, 0), ('dil_conv_5x5', 4, 2), ('skip_connect', 5, 3), ('sep_conv_3x3', 5, 0)], normal_concat=range(2, 6),
                       reduce=[('dil_conv_3x3', 2, 1), ('dil_conv_5x5', 2, 0), ('dil_conv_3x3', 3, 0), ('sep_conv_3x3', 3, 1), ('sep_conv_5x5', 4, 0), ('sep_conv_5x5', 4, 3), ('sep_conv_5x5', 5, 0), ('skip_connect', 5, 1)], reduce_concat=range(2, 6))`,
  },
  {
    name: "FairDARTS_d",
    aliases: [],
    source: "xiaomi-automl/FairDARTS @ 270cfc94ef4bf851f359ab5caf741f23316ea7c9 : fairdarts/genotypes.py",
    text: `Genotype(normal=[('sep_conv_3x3', 2, 0), ('sep_conv_5x5', 2, 1), ('dil_conv_3x3', 3, 1), ('max_pool_3x3', 3, 0), ('dil_conv_3x3', 4, 0), ('dil_conv_3x3', 4, 1), ('sep_conv_3x3', 5, 0), ('dil_conv_5x5', 5, 1)], normal_concat=range(2, 6),
reduce=[('max_pool_3x3', 2, 0), ('sep_conv_5x5', 2, 1), ('avg_pool_3x3', 3, 0), ('dil_conv_5x5', 3, 2), ('dil_conv_3x3', 4, 3), ('avg_pool_3x3', 4, 0), ('avg_pool_3x3', 5, 0), ('skip_connect', 5, 3)], reduce_concat=range(2, 6))`,
  },
  {
    name: "FairDARTS_e",
    aliases: [],
    source: "xiaomi-automl/FairDARTS @ 270cfc94ef4bf851f359ab5caf741f23316ea7c9 : fairdarts/genotypes.py",
    text: `Genotype(normal=[('sep_conv_3x3', 2, 0), ('sep_conv_3x3', 2, 1), ('dil_conv_3x3', 4, 1), ('dil_conv_3x3', 4, 2), ('dil_conv_3x3', 5, 0), ('dil_conv_5x5', 5, 1)], normal_concat=range(2, 6),
reduce=[('max_pool_3x3', 2, 1), ('max_pool_3x3', 2, 0), ('max_pool_3x3', 3, 1), ('max_pool_3x3', 3, 0), ('sep_conv_5x5', 4, 1), ('max_pool_3x3', 4, 0), ('avg_pool_3x3', 5, 0), ('dil_conv_5x5', 5, 1)], reduce_concat=range(2, 6))`,
  },
  {
    name: "FairDARTS_f",
    aliases: [],
    source: "xiaomi-automl/FairDARTS @ 270cfc94ef4bf851f359ab5caf741f23316ea7c9 : fairdarts/genotypes.py",
    text: `Genotype(normal=[('max_pool_3x3', 2, 0), ('sep_conv_3x3', 2, 1), ('dil_conv_3x3', 3, 1), ('sep_conv_5x5', 4, 1), ('sep_conv_3x3', 5, 0), ('sep_conv_3x3', 5, 1)], normal_concat=range(2, 6),
reduce=[('max_pool_3x3', 2, 0), ('max_pool_3x3', 2, 1), ('max_pool_3x3', 3, 0), ('dil_conv_3x3', 3, 1), ('dil_conv_3x3', 4, 2), ('max_pool_3x3', 4, 0), ('max_pool_3x3', 5, 0), ('sep_conv_3x3', 5, 1)], reduce_concat=range(2, 6))`,
  },
  {
    name: "FairDARTS_g",
    aliases: [],
    source: "xiaomi-automl/FairDARTS @ 270cfc94ef4bf851f359ab5caf741f23316ea7c9 : fairdarts/genotypes.py",
    text: `Genotype(normal=[('sep_conv_3x3', 2, 0), ('sep_conv_3x3', 2, 1), ('skip_connect', 4, 3), ('sep_conv_5x5', 4, 1), ('dil_conv_3x3', 5, 0), ('sep_conv_3x3', 5, 1)], normal_concat=range(2, 6),
reduce=[('avg_pool_3x3', 2, 1), ('skip_connect', 2, 0), ('skip_connect', 3, 2), ('max_pool_3x3', 3, 1), ('sep_conv_5x5', 4, 3), ('max_pool_3x3', 4, 0), ('dil_conv_3x3', 5, 1), ('dil_conv_3x3', 5, 4)], reduce_concat=range(2, 6))`,
  },
  {
    name: "c10_s5_random",
    aliases: [],
    source:
      "xiangning-chen/SmoothDARTS @ d3dbfed06643d5fd4056edd90891ec9109634ada : sota/cnn/genotypes.py (s5 = original DARTS space per sota/cnn/spaces.py)",
    text: `Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 1), ('skip_connect', 0), ('sep_conv_3x3', 3), ('skip_connect', 1), ('sep_conv_3x3', 1), ('dil_conv_3x3', 2)], normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('dil_conv_5x5', 3), ('max_pool_3x3', 0), ('sep_conv_3x3', 2), ('sep_conv_5x5', 3)], reduce_concat=range(2, 6))`,
  },
  {
    name: "c10_s5_pgd",
    aliases: [],
    source:
      "xiangning-chen/SmoothDARTS @ d3dbfed06643d5fd4056edd90891ec9109634ada : sota/cnn/genotypes.py (s5 = original DARTS space per sota/cnn/spaces.py)",
    text: `Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_5x5', 0), ('dil_conv_3x3', 3), ('dil_conv_3x3', 4), ('skip_connect', 0)], normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('sep_conv_5x5', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('skip_connect', 3), ('skip_connect', 2), ('skip_connect', 2), ('sep_conv_5x5', 4)], reduce_concat=range(2, 6))`,
  },
  {
    name: "cifar10_s0_0",
    aliases: ["cifar10_s0_best"],
    source:
      "Meituan-AutoML/DARTS- @ adb81a8313b17d1a87593a53b0e802fc4199e9b1 : src/eval/genotypes.py (S0 = DARTS space; 'S5 in the code')",
    text: `Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_3x3', 1), ('dil_conv_3x3', 2), ('skip_connect', 1), ('sep_conv_3x3', 0), ('skip_connect', 1), ('sep_conv_3x3', 0)], normal_concat=range(2, 6), reduce=[('sep_conv_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 3), ('skip_connect', 2), ('skip_connect', 3)], reduce_concat=range(2, 6))`,
  },
  {
    name: "cifar10_s0_1",
    aliases: [],
    source:
      "Meituan-AutoML/DARTS- @ adb81a8313b17d1a87593a53b0e802fc4199e9b1 : src/eval/genotypes.py (S0 = DARTS space; 'S5 in the code')",
    text: `Genotype(normal=[('sep_conv_3x3', 0), ('dil_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('dil_conv_5x5', 1), ('sep_conv_3x3', 0), ('skip_connect', 1), ('sep_conv_3x3', 0)], normal_concat=range(2, 6), reduce=[('sep_conv_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('max_pool_3x3', 1), ('skip_connect', 2), ('skip_connect', 3), ('skip_connect', 2), ('skip_connect', 3)], reduce_concat=range(2, 6))`,
  },
  {
    name: "cifar10_s0_2",
    aliases: [],
    source:
      "Meituan-AutoML/DARTS- @ adb81a8313b17d1a87593a53b0e802fc4199e9b1 : src/eval/genotypes.py (S0 = DARTS space; 'S5 in the code')",
    text: `Genotype(normal=[('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 0), ('skip_connect', 1)], normal_concat=range(2, 6), reduce=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 2), ('max_pool_3x3', 1), ('skip_connect', 2), ('skip_connect', 3), ('skip_connect', 2), ('skip_connect', 3)], reduce_concat=range(2, 6))`,
  },
  {
    name: "cifar10_s0_3",
    aliases: [],
    source:
      "Meituan-AutoML/DARTS- @ adb81a8313b17d1a87593a53b0e802fc4199e9b1 : src/eval/genotypes.py (S0 = DARTS space; 'S5 in the code')",
    text: `Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('dil_conv_5x5', 1), ('skip_connect', 1), ('skip_connect', 0)], normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('sep_conv_5x5', 0), ('skip_connect', 3), ('skip_connect', 2), ('skip_connect', 3), ('skip_connect', 2)], reduce_concat=range(2, 6))`,
  },
  {
    name: "cifar10_s0_4",
    aliases: [],
    source:
      "Meituan-AutoML/DARTS- @ adb81a8313b17d1a87593a53b0e802fc4199e9b1 : src/eval/genotypes.py (S0 = DARTS space; 'S5 in the code')",
    text: `Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 1), ('dil_conv_3x3', 0), ('skip_connect', 1), ('sep_conv_5x5', 0)], normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('skip_connect', 3), ('skip_connect', 2), ('skip_connect', 3)], reduce_concat=range(2, 6))`,
  },
];
