import { importMtrace } from '../../../traces/index.js';
import { importCommand } from '../../import.js';

export default importCommand('a glibc mtrace() log', importMtrace);
