export { type DoctorAllocator, type DoctorReport, type DoctorTools, doctorReport } from './doctor.js';
