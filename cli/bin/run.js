#!/usr/bin/env node
// Entry point for the `allocreplay` command; commands live in dist/cli/commands.
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
