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
