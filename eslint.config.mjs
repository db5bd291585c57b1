import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "bin/**", "dynamic-providers/fly/schema.gen.ts", ".tmp/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-require-imports": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Provider code is serialized by Pulumi's closure serializer and run by the dynamic-provider host.
    files: ["dynamic-providers/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "Program > VariableDeclaration NewExpression[callee.name=/^(Set|Map|WeakMap|WeakSet)$/]",
          message: "A module-level Set/Map does not survive Pulumi's closure serialization; use an array or a plain object.",
        },
        {
          selector: "Program > ImportDeclaration > ImportNamespaceSpecifier[local.name!='pulumi']",
          message: "`import * as x` of an npm package breaks closure serialization; use named imports or require() inside the method.",
        },
      ],
    },
  },
);
