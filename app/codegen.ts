import type { CommonHooks } from '@adonisjs/assembler/types'

type InitHook = Extract<CommonHooks['init'][number], { run: any }>

/**
 * Assembler init hooks for the registries the app reads instead of scanning
 * folders at run time. They run in `node ace serve`, `test`, `build` and
 * `codegen`, and write into `.adonisjs/server/`.
 */
export function indexAppRegistries(): InitHook {
  return {
    run(_, __, indexGenerator) {
      /**
       * `plugins`: one lazy import per `plugins/<folder>/plugin.ts`, keyed
       * by folder name. The assembler matches globs against absolute paths,
       * hence the leading `**`.
       */
      indexGenerator.add('plugins', {
        source: 'plugins',
        glob: ['**/plugins/*/plugin.ts'],
        importAlias: '#plugins',
        output: '.adonisjs/server/plugins.ts',
        comment: true,
        as(vfs, buffer, ___, helpers) {
          const tree = vfs.asTree({
            transformKey: (key) => key.split('/')[0],
            transformValue: (filePath) => `() => import('${helpers.toImportPath(filePath)}')`,
          })
          const entries = Object.entries(tree).sort(([a], [b]) => a.localeCompare(b))
          buffer.write(`export const plugins = {`).indent()
          for (const [folder, loader] of entries) buffer.write(`'${folder}': ${loader as string},`)
          buffer.dedent().write(`}`)
        },
      })

      /**
       * `jobs`: one lazy import per job class in `app/jobs`.
       */
      indexGenerator.add('jobs', {
        source: 'app/jobs',
        as: 'barrelFile',
        exportName: 'jobs',
        importAlias: '#jobs',
        removeSuffix: 'job',
        output: '.adonisjs/server/jobs.ts',
        comment: true,
      })
    },
  }
}
