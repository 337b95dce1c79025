// Shapes of the JSON API (docs/api.md).
export const kOccupations = [
  'physician', 'dentist', 'pharmacist', 'nurse', 'visiting_nurse', 'care_manager',
  'home_helper', 'therapist', 'social_worker', 'clerk', 'ems', 'family',
] as const;
export type Occupation = (typeof kOccupations)[number];

export const kRoles = ['network_admin', 'facility_admin', 'staff'] as const;
export type Role = (typeof kRoles)[number];

export const kFacilityTypes = [
  'hospital', 'clinic', 'dental_clinic', 'pharmacy', 'visiting_nurse_station',
  'home_care_support_office', 'care_home', 'ltc_facility', 'ems', 'municipality',
  'lab_center',
] as const;
export type FacilityType = (typeof kFacilityTypes)[number];
/** Facility types identified by a 10-digit medical institution code. */
export const kCodedFacilityTypes: readonly FacilityType[] = [
  'hospital', 'clinic', 'dental_clinic', 'pharmacy',
];

export const kSexes = ['male', 'female', 'other', 'unknown'] as const;
export type Sex = (typeof kSexes)[number];

export const kApplicationStatuses = ['pending', 'approved', 'rejected'] as const;
export type ApplicationStatus = (typeof kApplicationStatuses)[number];

export interface User {
  id: number;
  login_id: string;
  display_name: string;
  kana: string;
  email: string;
  facility_id: number;
  facility_name: string;
  occupation: Occupation;
  role: Role;
  totp_enabled: boolean;
  must_change_password: boolean;
  mfa_enrollment_required: boolean;
  disabled: boolean;
}

export interface SessionAnswer {
  user: User;
  csrf_token: string;
}

export interface MfaChallenge {
  mfa_required: true;
  mfa_token: string;
}

export interface Facility {
  id: number;
  type: FacilityType;
  code: string;
  name: string;
  kana: string;
  postcode: string;
  address: string;
  phone: string;
  area: string;
  area_name: string;
  departments: string[];
  services: string[];
  require_mfa: boolean;
  status: string;
  created_at: string;
}

export interface FacilityInput {
  type: FacilityType;
  code?: string;
  name: string;
  kana: string;
  postcode: string;
  address: string;
  phone: string;
  area: string;
  departments?: string[];
  services?: string[];
}

export interface Application {
  id: number | string;
  status: ApplicationStatus;
  facility: Partial<FacilityInput> & { area_name?: string };
  applicant_name: string;
  applicant_email: string;
  applicant_phone?: string;
  reason?: string;
  reject_reason?: string;
  created_at?: string;
  submitted_at?: string;
}

export interface Area {
  code: string;
  name: string;
}

export interface Invitation {
  facility_name: string;
  email: string;
  expires_at: string;
}

export interface PatientLink {
  facility_id: number;
  facility_name: string;
  local_id: string;
}

export interface Patient {
  regional_id: string;
  name: string;
  kana: string;
  birth_date: string;
  sex: Sex;
  postcode: string;
  address: string;
  phone: string;
  links: PatientLink[];
  created_at: string;
}

export interface AuditEvent {
  seq: number;
  time: string;
  user_id: number | null;
  user_name: string;
  facility_id: number | null;
  occupation: string;
  action: string;
  patient_id: string;
  object: string;
  outcome: string;
  client_address: string;
  reason: string;
}

export interface Page<T> {
  items: T[];
  total?: number;
}

// Consent and MPI (docs/api.md "Consent and MPI").
export const kConsentScopes = ['clinical_sharing', 'dispensing', 'emergency_sheet', 'care_team', 'family'] as const;
export type ConsentScope = (typeof kConsentScopes)[number];

export const kConsentStatuses = ['active', 'pending', 'expired', 'withdrawn'] as const;
export type ConsentStatus = (typeof kConsentStatuses)[number];

export interface ConsentForm {
  content_type: string;
  size: number;
  sha256: string;
}

export interface Consent {
  id: number;
  regional_id: string;
  scope: ConsentScope;
  source_facility_id: number;
  source_facility_name: string;
  viewer_facility_id: number;
  viewer_facility_name: string;
  valid_from: string;
  valid_to: string | null;
  status: ConsentStatus;
  withdrawn_at: string | null;
  withdrawn_by: number | null;
  form: ConsentForm | null;
  created_by: number;
  created_at: string;
  note: string;
}

export interface NewConsent {
  scope: ConsentScope;
  source_facility_id?: number;
  viewer_facility_id?: number;
  valid_from: string;
  valid_to?: string;
  note?: string;
}

export type MatchLevel = 'exact' | 'near' | 'differs' | 'missing';
export const kMatchFields = ['kana', 'birth_date', 'sex', 'phone', 'postcode'] as const;
export type MatchField = (typeof kMatchFields)[number];

export interface Candidate {
  regional_id: string;
  score: number;
  auto_link: boolean;
  linked_here: boolean;
  kana_masked: string;
  match: Record<MatchField, MatchLevel>;
  name?: string;
  kana?: string;
  birth_date?: string;
  sex?: Sex;
}

export interface CandidateAnswer {
  items: Candidate[];
  auto_link_score: number;
  propose_score: number;
}

export interface LinkAnswer {
  regional_id: string;
  facility_id: number;
  facility_name: string;
  local_id: string;
}

export interface MergeAnswer {
  regional_id: string;
  merged_regional_id: string;
  links_moved: number;
  consents_moved: number;
}

// Clinical timeline (docs/api.md "Clinical timeline").
export const kCategories = [
  'allergy', 'condition', 'prescription', 'injection', 'dispensing', 'administration',
  'immunization', 'lab_result', 'report', 'encounter', 'order', 'document', 'patient_info',
] as const;
export type Category = (typeof kCategories)[number];

export interface LabValue {
  value: number | null;
  value_text: string;
  unit: string;
  low: number | null;
  high: number | null;
  range_text: string;
  flag: string;
  abnormal: boolean;
}

export interface MedicationInfo {
  name: string;
  yj_code: string;
  dose: string;
  unit: string;
  frequency: string;
  days: string;
  route: string;
  quantity: string;
}

export interface TimelineItem {
  id: string;
  resource_type: string;
  category: Category;
  effective: string;
  effective_end: string;
  display: string;
  code_system: string;
  code: string;
  source_facility_id: number;
  source_facility_name: string;
  summary: Record<string, string>;
  lab?: LabValue;
  medication?: MedicationInfo;
}

export interface TimelinePage {
  regional_id: string;
  allergies: TimelineItem[];
  items: TimelineItem[];
  next_cursor: string | null;
  total: number;
}

export interface LabPoint extends LabValue {
  id: string;
  effective: string;
  source_facility_id: number;
  source_facility_name: string;
}

export interface LabTest {
  code_system: string;
  code: string;
  display: string;
  unit: string;
  reference_range: { low: number | null; high: number | null; text: string };
  cells: (LabPoint | null)[];
  series: LabPoint[];
}

export interface LabTable {
  dates: string[];
  tests: LabTest[];
}

export interface MedicationCourse {
  resource_id: string;
  resource_type: string;
  facility_id: number;
  facility_name: string;
  medication: string;
  yj_code: string;
  start: string;
  end: string;
}

export interface MedicationWarning {
  ingredient: string;
  overlap_start: string;
  overlap_end: string;
  message: string;
  first: MedicationCourse;
  second: MedicationCourse;
}

/** POST /patients/:rid/dispensings (docs/api.md "Dispensing records"). */
export interface DispensingImportMedication {
  line: number;
  rp: number;
  name: string;
  code_type: number;
  code: string;
  yj_code: string;
  dose: string;
  unit: string;
  usage: string;
  quantity: string;
  quantity_unit: string;
  dosage_form: string;
  start: string;
  end: string;
}

export interface DispensingImportEvent {
  line: number;
  date: string;
  pharmacy: { name: string; code: string };
  pharmacist: string;
  prescriber: { name: string; code: string; doctor: string; department: string };
  medications: DispensingImportMedication[];
}

export interface DispensingImport {
  regional_id: string;
  dry_run: boolean;
  encoding: string;
  events: DispensingImportEvent[];
  medications: number;
  inserted: number;
  updated: number;
  unchanged: number;
  older_ignored: number;
  problems: { line: number; message: string }[];
  medication_warnings: MedicationWarning[];
}

/** A system client of the FHIR API (OAuth client credentials, docs/oauth.md). */
export interface SystemClient {
  client_id: string;
  name: string;
  facility_id: number;
  facility_name: string;
  occupation: Occupation;
  scopes: string[];
  kids: string[];
  jwks: { keys: Record<string, string>[] } | null;
  status: 'active' | 'disabled';
  created_at: string;
  created_by: number;
  disabled_at: string | null;
  token_endpoint: string;
}

/** A clinical document (DocumentReference) of a patient (docs/documents.md). */
export interface DocumentItem {
  id: string;
  binary_id: string;
  content_url: string | null;
  type_code: string;
  type_display: string;
  title: string;
  description: string;
  date: string;
  author: string;
  content_type: string;
  size: number;
  source_facility_id: number;
  source_facility_name: string;
}

export interface DocumentPage {
  items: DocumentItem[];
  next_cursor: string | null;
  total: number;
}
