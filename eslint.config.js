import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'ui/dist/**', 'node_modules/**', 'data/**', 'bench/results/**', 'openapi/**'] })
]
