#!/usr/bin/env node
// Writes oclif.manifest.json after each build (`npm run build`). Without it,
// oclif imports every command module on every start-up to learn their flags,
// so even `allocreplay --version` would load the store, the engine and the
// chart libraries; with it, a command loads only its own module.
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// oclif reads an existing manifest even when told to ignore it: a new command would stay unknown.
rmSync(join(root, 'oclif.manifest.json'), { force: true });
const config = await Config.load({ root, ignoreManifest: true });
const plugin = config.getPluginsList().find((p) => p.root === root);
if (!plugin) throw new Error(`no oclif plugin at ${root}`);
writeFileSync(join(root, 'oclif.manifest.json'), `${JSON.stringify(plugin.manifest, null, 2)}\n`);
