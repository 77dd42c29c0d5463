/**
 * The layers of src/, checked by dependency-cruiser (`npm run lint:layers`, run first by `npm test`). Ranks, low to
 * high; a module may import its own folder and any lower rank, never a higher one nor a sibling folder of its own
 * rank. functions/ sits on top. The README's "Layers" section says the same in words; change both together.
 * import() by a computed name is caught by Biome (lint/no-computed-import.grit): dependency-cruiser cannot see it.
 */
const RANKS = [
  ["diagnostics", "processes"],
  ["eql", "kusto", "yara", "store"],
  ["targets"],
  ["rules", "workspace"],
  ["kql"],
  ["sentinel"],
  ["hunt"],
  ["broker"],
  ["app"],
  ["server", "cli"],
];

const rankOf = (folder) => RANKS.findIndex((rank) => rank.includes(folder));
const anyOf = (folders) => `^src/(${folders.join("|")})/`;

const layerRules = RANKS.flat().map((folder) => {
  const rank = rankOf(folder);
  const higher = RANKS.slice(rank + 1).flat();
  const siblings = RANKS[rank].filter((f) => f !== folder);
  const forbidden = [...higher, ...siblings, "../functions"].filter(Boolean);
  return {
    name: `layer-${folder}`,
    comment: `src/${folder} (rank ${rank}) may import its own folder and lower ranks only`,
    severity: "error",
    from: { path: `^src/${folder}/` },
    to: {
      path: `^(src/(${forbidden.filter((f) => !f.startsWith("..")).join("|")})/|functions/)`,
      // `shmhunt serve` starts the HTTP transport: the CLI reaches src/server through its start module only.
      ...(folder === "cli" ? { pathNot: "^src/server/start\\.ts$" } : {}),
    },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "unknown-folder",
      comment: "every folder of src/ has a rank (add it to RANKS and to the README's layer order)",
      severity: "error",
      from: { path: "^src/", pathNot: anyOf(RANKS.flat()) },
      to: {},
    },
    {
      name: "no-circular-between-folders",
      comment: "no cycle that crosses a folder boundary",
      severity: "error",
      from: { path: "^src/([^/]+)/" },
      to: { circular: true, pathNot: "^src/$1/" },
    },
    {
      name: "not-to-unresolvable",
      comment: "every import resolves (a computed specifier is caught by Biome; a wrong literal one here)",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist)/" },
    parser: "swc",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // resolve packages as Node does (the "node" and "import" export conditions: some packages export only under "node")
    enhancedResolveOptions: { conditionNames: ["node", "import", "require", "default"], exportsFields: ["exports"] },
  },
};
