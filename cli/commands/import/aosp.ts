import { importAosp } from '../../../traces/index.js';
import { importCommand } from '../../import.js';

export default importCommand('an Android memory_replay dump (text, or a .zip holding one)', importAosp);
