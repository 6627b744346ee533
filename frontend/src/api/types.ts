// The one place that names the API's schemas: a renamed schema is a fix in this file only.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Account = Schemas["Me"];
export type AccessToken = Schemas["AccessToken"];
export type Problem = Schemas["Problem"];
export type Category = Schemas["CategoryRead"];
export type Skill = Schemas["SkillRead"];
export type JobCard = Schemas["JobCard"];
export type Job = Schemas["JobRead"];
export type JobCreate = Schemas["JobCreate"];
export type Application = Schemas["JobApplicationRead"];
export type MyApplication = Schemas["MyApplicationRead"];
export type RankedApplicant = Schemas["RankedApplicant"];
export type Payment = Schemas["PaymentRead"];
export type Review = Schemas["ReviewRead"];
export type ReceivedReviews = Schemas["ReceivedReviewsPage"];
export type Profile = Schemas["PublicProfile"];
export type ProfileUpdate = Schemas["MeUpdate"];
export type Role = Schemas["SignupRole"];
export type JobStatus = Job["status"];
export type PayType = JobCreate["pay_type"];
export type ApplicationStatus = Application["status"];
export type Shift = Schemas["ShiftRead"];
export type ShiftCreate = Schemas["ShiftCreate"];
export type Timesheet = Schemas["TimesheetRead"];
export type Reliability = Schemas["Reliability"];
export type Position = Schemas["Position"];
export type Notification = Schemas["NotificationRead"];
export type Message = Schemas["MessageRead"];
export type ApplicationDetail = Schemas["ApplicationDetail"];
